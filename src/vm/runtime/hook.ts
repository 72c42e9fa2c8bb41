/**
 * Hooks: named attach points that the host fires, like the kernel's hooks of a program type
 * (a tracepoint, a sysfs write…). Programs attached run in attach order on the context the host
 * gives; firing returns each program's result.
 */
import { TsbpfError } from "../../errors.js";
import type { ProgramTypeDef } from "../program-types/types.js";
import type { VmProgram } from "./program.js";

/** An attachment; `detach` removes the program from its hook. */
export interface HookLink {
  readonly hook: Hook;
  readonly program: VmProgram;
  detach(): void;
}

export interface HookResult {
  readonly program: string;
  readonly retval: number;
}

export class Hook {
  private readonly attached: VmProgram[] = [];
  constructor(
    readonly name: string,
    readonly type: ProgramTypeDef,
  ) {}

  /** Attach a program of the hook's type. */
  attach(program: VmProgram): HookLink {
    if (program.type !== this.type)
      throw new TsbpfError(
        `hook '${this.name}': program '${program.name}' is ${program.type.name}, the hook takes ${this.type.name}`,
      );
    this.attached.push(program);
    return {
      hook: this,
      program,
      detach: () => {
        const i = this.attached.indexOf(program);
        if (i >= 0) this.attached.splice(i, 1);
      },
    };
  }

  /** The attached programs, in run order. */
  get programs(): readonly VmProgram[] {
    return this.attached;
  }

  /** Run every attached program on `context` (bytes of the type's context struct). */
  fire(context: Uint8Array): HookResult[] {
    return this.attached.map((p) => ({ program: p.name, retval: p.run(context) }));
  }
}
