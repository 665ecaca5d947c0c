import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, encodeEnvelope, type UniversalHandler, type UniversalServerRequest, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, headerGrpcStatus, headerStatusDetailsBin, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/**
 * connect-es decodes a unary request before any interceptor runs, and answers bytes it cannot
 * read with INTERNAL: invalid wire data or nesting past protobuf-es's recursion limit ("parse
 * binary"), a compressed frame without an encoding, a corrupt gzip body. Those are the client's
 * fault. connect-es offers no hook into its decoding, and decoding twice would cost the hot path,
 * so the server marks each call that reached its interceptors, and a call that failed with
 * INTERNAL without reaching them gets INVALID_ARGUMENT instead. A call that succeeds pays one
 * context flag and one wrapper; only such failures are re-encoded (they are small, never
 * compressed, as compression starts at 1 KiB). Streaming calls decode inside the interceptors:
 * there the marking interceptor maps what the request stream throws.
 */

const reached = createContextKey(false, { description: "lotty: the call reached the interceptors" });

/** The outermost interceptor: marks the call as decoded and maps decode failures of request streams. */
export function decodedInterceptor(): Interceptor {
  return (next) => (req) => {
    req.contextValues.set(reached, true);
    return next(req.stream ? { ...req, message: mapDecodeFailures(req.message) } : req);
  };
}

async function* mapDecodeFailures<T>(input: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* input;
  } catch (err) {
    // The request stream only reads the client's bytes: INTERNAL there is bytes it could not read.
    const e = ConnectError.from(err);
    throw e.code === Code.Internal ? undecodable(e) : err;
  }
}

const undecodable = (e: ConnectError) => new ConnectError(`request could not be decoded: ${e.rawMessage}`, Code.InvalidArgument);

/** The handler, answering an undecodable request with INVALID_ARGUMENT (needs contextValues on every request). */
export function answerUndecodableAsInvalidArgument(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    return req.contextValues?.get(reached) ? res : asInvalidArgument(res);
  };
  return Object.assign(wrapped, handler);
}

const INTERNAL = String(Code.Internal);

/** The same response with an INTERNAL status replaced, in the form of each protocol. */
async function asInvalidArgument(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  // gRPC: the status is in the trailers (set once the body has ended, before the handler resolves).
  if (res.trailer) {
    replaceInternal(res.trailer);
    return res;
  }
  if (!res.body) return res;
  const contentType = res.header?.get("content-type") ?? "";
  // gRPC-Web: the status is in a trailer frame, the only frame of a call that read no message.
  if (contentType.startsWith("application/grpc-web")) {
    const body = await bytesOf(res.body);
    const trailer = body[0] === trailerFlag ? trailerParse(body.subarray(5)) : undefined;
    return { ...res, body: createAsyncIterable([trailer && replaceInternal(trailer) ? encodeEnvelope(trailerFlag, trailerSerialize(trailer)) : body]) };
  }
  // Connect unary: a JSON error body with the HTTP status of its code.
  if (res.status === codeToHttpStatus(Code.Internal) && contentType === "application/json") {
    const body = await bytesOf(res.body);
    const err = connectErrorOf(body);
    if (err?.code !== Code.Internal) return { ...res, body: createAsyncIterable([body]) };
    const json = errorToJsonBytes(undecodable(err), {});
    res.header!.set("content-length", String(json.byteLength));
    return { ...res, status: codeToHttpStatus(Code.InvalidArgument), body: createAsyncIterable([json]) };
  }
  return res;
}

/** Replaces an INTERNAL status in gRPC trailers; true when it did. */
function replaceInternal(trailer: Headers): boolean {
  if (trailer.get(headerGrpcStatus) !== INTERNAL) return false;
  const err = findTrailerError(trailer)!;
  // findTrailerError prefers the details header, which the new status does not set.
  trailer.delete(headerStatusDetailsBin);
  setTrailerStatus(trailer, undecodable(err));
  return true;
}

function connectErrorOf(body: Uint8Array): ConnectError | undefined {
  try {
    return errorFromJsonBytes(body, undefined, new ConnectError("", Code.Unknown));
  } catch {
    return undefined; // not an error body this wrapper can read (e.g. compressed): left as it is
  }
}

async function bytesOf(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}
