import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  aborted,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  invalidArguments,
  notFound,
} from "../../src/rpc/index.js";

describe("rpc errors", () => {
  it("invalidArgument names the field and the reason", () => {
    const err = invalidArgument("traffic_allocation", "must be between 0.01 and 100");
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe('field "traffic_allocation": must be between 0.01 and 100');
  });

  it("invalidArguments lists every violation", () => {
    const err = invalidArguments([
      { field: "key", description: "must not be empty" },
      { field: "variants[1].weight", description: "must be positive" },
    ]);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe('field "key": must not be empty; field "variants[1].weight": must be positive');
  });

  it.each([
    [notFound("flag", "checkout"), Code.NotFound, 'flag "checkout" not found'],
    [alreadyExists("experiment", "exp-1"), Code.AlreadyExists, 'experiment "exp-1" already exists'],
    [failedPrecondition("experiment is not running"), Code.FailedPrecondition, "experiment is not running"],
    [aborted("version mismatch: expected 3, found 4"), Code.Aborted, "version mismatch: expected 3, found 4"],
  ])("%s carries its code", (err, code, message) => {
    expect(err.code).toBe(code);
    expect(err.rawMessage).toBe(message);
  });
});
