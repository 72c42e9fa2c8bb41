import { once } from "node:events";
import net from "node:net";

/** A loopback echo server and one client connection that sends `bytes` and reads them back. */
export async function loopbackSession(bytes: number): Promise<{ serverPort: number; clientPort: number }> {
  const server = net.createServer((s) => {
    s.on("data", (d) => s.write(d));
    s.on("end", () => s.end());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const serverPort = (server.address() as net.AddressInfo).port;
  const client = net.connect(serverPort, "127.0.0.1");
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
