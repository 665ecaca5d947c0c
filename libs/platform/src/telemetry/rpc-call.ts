import { Code, ConnectError } from "@connectrpc/connect";
import type { StreamResponse, UnaryRequest, StreamRequest, UnaryResponse } from "@connectrpc/connect";

type AnyRequest = UnaryRequest | StreamRequest;
type AnyResponse = UnaryResponse | StreamResponse;

/** "lotty.decision.v1.DecisionService/Decide": the span name and metric label for a call. */
export function rpcName(req: AnyRequest): string {
  return `${req.service.typeName}/${req.method.name}`;
}

/** Connect's wire spelling of a code ("not_found"); "ok" for success. */
export function codeName(code: Code | undefined): string {
  if (code === undefined) return "ok";
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/**
 * Runs `next(req)` and calls `done` once when the call is over: for unary calls when the
 * response is back, for server streams when the last message has been consumed, so a
 * span or timer covers the whole stream and not just the headers.
 */
export async function observeCall(
  next: (req: AnyRequest) => Promise<AnyResponse>,
  req: AnyRequest,
  done: (error: ConnectError | undefined) => void,
): Promise<AnyResponse> {
  let res: AnyResponse;
  try {
    res = await next(req);
  } catch (e) {
    done(ConnectError.from(e));
    throw e;
  }
  if (!res.stream) {
    done(undefined);
    return res;
  }
  const source = res.message;
  async function* watched() {
    let error: ConnectError | undefined;
    try {
      yield* source;
    } catch (e) {
      error = ConnectError.from(e);
      throw e;
    } finally {
      done(error);
    }
  }
  return { ...res, message: watched() };
}
