import { create, createRegistry, toBinary, type DescFile, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "@lotty/proto/grpc-reflection";
import * as v1alpha from "@lotty/proto/grpc-reflection-v1alpha";

type ReflectionRequest = v1.ServerReflectionRequest["messageRequest"] | v1alpha.ServerReflectionRequest["messageRequest"];

/** The oneof reply, as a plain init object both reflection versions accept. */
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Answers reflection queries from the descriptors compiled into the binary. connect-node
 * has no reflection service (connect-es #507), and grpc-js's @grpc/reflection only plugs
 * into grpc-js servers, hence this small one.
 */
export class ReflectionIndex {
  /** By file name as imports spell it ("grpc/health/v1/health.proto"); DescFile.name lacks ".proto". */
  private readonly files = new Map<string, DescFile>();
  private readonly encoded = new Map<DescFile, Uint8Array>();
  private readonly registry: Registry;

  constructor(
    files: readonly DescFile[],
    private readonly services: readonly string[],
  ) {
    const visit = (f: DescFile): void => {
      if (this.files.has(f.proto.name)) return;
      this.files.set(f.proto.name, f);
      f.dependencies.forEach(visit);
    };
    files.forEach(visit);
    this.registry = createRegistry(...this.files.values());
  }

  answer(req: ReflectionRequest): ReflectionAnswer {
    switch (req.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.services.map((name) => ({ name })) } };
      case "fileByFilename":
        return this.fileAnswer(this.files.get(req.value), `file "${req.value}"`);
      case "fileContainingSymbol":
        return this.fileAnswer(this.fileOfSymbol(req.value), `symbol "${req.value}"`);
      case "fileContainingExtension": {
        const extendee = this.registry.getMessage(req.value.containingType);
        const ext = extendee && this.registry.getExtensionFor(extendee, req.value.extensionNumber);
        return this.fileAnswer(ext?.file, `extension ${req.value.containingType}/${req.value.extensionNumber}`);
      }
      case "allExtensionNumbersOfType": {
        if (!this.registry.getMessage(req.value)) return notFound(`type "${req.value}"`);
        const numbers = [...this.registry].flatMap((d) =>
          d.kind === "extension" && d.extendee.typeName === req.value ? [d.number] : [],
        );
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: req.value, extensionNumber: numbers } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty request" } };
    }
  }

  /** Symbols are types or services; methods, fields and enum values resolve to their parent. */
  private fileOfSymbol(symbol: string): DescFile | undefined {
    const desc = this.registry.get(symbol);
    if (desc) return desc.file;
    const dot = symbol.lastIndexOf(".");
    return dot > 0 ? this.registry.get(symbol.slice(0, dot))?.file : undefined;
  }

  /** The file plus its transitive imports, so a client needs no second round trip. */
  private fileAnswer(file: DescFile | undefined, what: string): ReflectionAnswer {
    if (!file) return notFound(what);
    const closure = new Set<DescFile>();
    const visit = (f: DescFile): void => {
      if (closure.has(f)) return;
      closure.add(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: [...closure].map((f) => this.encode(f)) } };
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }
}

function notFound(what: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}

/** Mounts grpc.reflection.v1 and v1alpha (older clients such as grpcurl still ask v1alpha). */
export function routeReflection(router: ConnectRouter, index: ReflectionIndex): void {
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const messageResponse = index.answer(req.messageRequest);
        yield create(v1.ServerReflectionResponseSchema, { validHost: req.host, originalRequest: req, messageResponse });
      }
    },
  });
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const messageResponse = index.answer(req.messageRequest);
        yield create(v1alpha.ServerReflectionResponseSchema, { validHost: req.host, originalRequest: req, messageResponse });
      }
    },
  });
}

export const reflectionFiles: readonly DescFile[] = [
  v1.file_grpc_reflection_v1_reflection,
  v1alpha.file_grpc_reflection_v1alpha_reflection,
];
export const reflectionServices: readonly string[] = [v1.ServerReflection.typeName, v1alpha.ServerReflection.typeName];
