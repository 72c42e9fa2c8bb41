import { TsbpfError } from "../../errors.js";

/** A test-run input the kernel would refuse (BPF_PROG_TEST_RUN returning -EINVAL and friends). */
export class TestRunInputError extends TsbpfError {
  override name = "TestRunInputError";
  constructor(
    readonly programType: string,
    readonly reason: string,
  ) {
    super(`${programType} test run: ${reason}`);
  }
}
