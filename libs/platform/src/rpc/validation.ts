import { pathToString } from "@bufbuild/protobuf/reflect";
import type { Validator, Violation } from "@bufbuild/protovalidate";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { DecisionService } from "@lotty/proto/decision";
import { invalidArguments, type FieldViolation } from "./errors.js";

/**
 * The decide hot path is left to its handlers, which check the same rules in code (a decision
 * test keeps the two in step): bench/validation/validation.bench.ts measured protovalidate at
 * 1.1-3.8 µs per Decide and 4.9-14 µs per 20-flag DecideBatch, about ten times the code checks
 * (2 shared cores, load 2-11). OFREP is plain HTTP and never passes this interceptor.
 */
const HOT_PATH: ReadonlySet<string> = new Set([DecisionService.method.decide, DecisionService.method.decideBatch].map((m) => `${DecisionService.typeName}/${m.name}`));

const toFieldViolation = (v: Violation): FieldViolation => ({ field: pathToString(v.field), description: v.message });

let validator: Promise<Validator> | undefined;
const loadValidator = () => (validator ??= import("@bufbuild/protovalidate").then((m) => m.createValidator()));

/**
 * Refuses a request that breaks the protovalidate rules of its message (the `buf.validate`
 * annotations in proto/) with INVALID_ARGUMENT and one field violation per broken rule, before
 * the handler runs. Handlers keep the checks that need context (existence, state, masks).
 * One validator serves the process. It is loaded at the first call it judges, not at start:
 * protovalidate and its CEL runtime take some 0.4 s to import under tsx, and Decide, the call
 * a fresh start waits for, never needs it. A rule that cannot compile is found by the platform's
 * rpc tests, which plan every Lotty request message.
 */
export function requestValidationInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (req.stream || HOT_PATH.has(`${req.service.typeName}/${req.method.name}`)) return next(req);
    const result = (await loadValidator()).validate(req.method.input, req.message);
    if (result.kind === "invalid") throw invalidArguments(result.violations.map(toFieldViolation));
    // A rule that cannot be evaluated is our bug, not the caller's.
    if (result.kind === "error") throw new ConnectError(`validating ${req.method.input.typeName}: ${result.error.message}`, Code.Internal);
    return next(req);
  };
}

/** createRouterTransport options that validate requests as createRpcServer does (in-process callers, tests). */
export function validatedRouter(): { router: { interceptors: Interceptor[] } } {
  return { router: { interceptors: [requestValidationInterceptor()] } };
}
