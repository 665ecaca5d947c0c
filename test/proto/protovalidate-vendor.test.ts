// proto/buf/validate/validate.proto is printed from the descriptor @bufbuild/protovalidate embeds
// (scripts/vendor-protovalidate.mjs). These checks keep it faithful: buf compiles it to the very
// descriptor the runtime validator reads (every message, field number, type, option), and it is
// current with the installed package, so our annotations encode exactly what protovalidate expects.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { clone, createRegistry, fromBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { field, file_buf_validate_validate, message, oneof, predefined } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../deploy/repo.js";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "lotty-protovalidate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The descriptor buf compiles from the vendored file (built once). */
let built: Promise<FileDescriptorProto> | undefined;
const compiled = () => (built ??= build());

async function build(): Promise<FileDescriptorProto> {
  const out = join(work, "validate.binpb");
  await run(join(ROOT, "node_modules/.bin/buf"), ["build", "--path", "proto/buf/validate/validate.proto", "--exclude-imports", "--exclude-source-info", "--as-file-descriptor-set", "-o", out], { cwd: ROOT });
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
  expect(set.file.map((f) => f.name)).toEqual(["buf/validate/validate.proto"]);
  return set.file[0];
}

/** Canonical JSON with custom options decoded, and what embedding drops or restores left out. */
function canonical(fd: FileDescriptorProto): JsonValue {
  const c = clone(FileDescriptorProtoSchema, fd);
  // protoc and buf leave syntax unset for proto2.
  if (c.syntax === "proto2") c.syntax = "";
  c.sourceCodeInfo = undefined;
  const dropDefaultJsonName = (f: { name: string; jsonName: string }) => {
    if (f.jsonName === protoCamelCase(f.name)) f.jsonName = "";
  };
  const visit = (m: DescriptorProto): void => {
    m.field.forEach(dropDefaultJsonName);
    m.extension.forEach(dropDefaultJsonName);
    m.nestedType.forEach(visit);
  };
  c.messageType.forEach(visit);
  c.extension.forEach(dropDefaultJsonName);
  return toJson(FileDescriptorProtoSchema, c, { registry: createRegistry(file_buf_validate_validate) });
}

describe("vendored buf/validate/validate.proto", () => {
  it("is current with the installed @bufbuild/protovalidate", async () => {
    await expect(run(process.execPath, [join(ROOT, "scripts/vendor-protovalidate.mjs"), "--check"], { cwd: ROOT })).resolves.toBeDefined();
  });

  it("compiles to the descriptor protovalidate validates with", async () => {
    const ours = await compiled();
    const json = JSON.stringify(canonical(ours));
    // Custom options are compared too, decoded: the printer must not have dropped them.
    expect(json).toContain('"[buf.validate.predefined]"');
    expect(canonical(ours)).toEqual(canonical(file_buf_validate_validate.proto));
  }, 60_000);

  it("defines the extensions our annotations use with upstream's numbers and types", async () => {
    const ours = await compiled();
    const ext = Object.fromEntries(ours.extension.map((x) => [x.name, { number: x.number, extendee: x.extendee, type: x.typeName }]));
    for (const e of [field, message, oneof, predefined]) {
      expect(ext[e.name]).toEqual({ number: e.number, extendee: `.${e.extendee.typeName}`, type: `.${e.message?.typeName}` });
    }
  }, 60_000);
});
