import { once } from "node:events";
import net from "node:net";

/**
 * A loopback echo server and one client connection that sends `bytes` and reads them back, on
 * 127.0.0.1 or `host` (e.g. "::1").
 */
export async function loopbackSession(
  bytes: number,
  host = "127.0.0.1",
): Promise<{ serverPort: number; clientPort: number }> {
  const server = net.createServer((s) => {
    s.on("data", (d) => s.write(d));
    s.on("end", () => s.end());
  });
  server.listen(0, host);
  await once(server, "listening");
  const serverPort = (server.address() as net.AddressInfo).port;
  const client = net.connect(serverPort, host);
  await once(client, "connect");
  const clientPort = client.localPort!;
  client.write(Buffer.alloc(bytes, 7));
  let got = 0;
  for await (const chunk of client) {
    got += (chunk as Buffer).length;
    if (got >= bytes) break;
  }
  client.end();
  client.destroy();
  await new Promise((r) => setTimeout(r, 100));
  server.close();
  await once(server, "close");
  return { serverPort, clientPort };
}

/** Why IPv6 loopback cannot be used here (no ::1), or undefined when it can. */
export async function noIpv6Loopback(): Promise<string | undefined> {
  const server = net.createServer();
  try {
    server.listen(0, "::1");
    await once(server, "listening");
    return undefined;
  } catch (e) {
    return `no IPv6 loopback (::1): ${(e as Error).message}`;
  } finally {
    server.close();
  }
}
