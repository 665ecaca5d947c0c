// Writes proto/buf/validate/validate.proto from the descriptor that @bufbuild/protovalidate
// embeds, so buf compiles our protovalidate annotations offline (the BSR module is out of reach).
// The printed file compiles to the same descriptor as upstream's (test/proto checks it with buf),
// but carries no comments: the embedded descriptor has none. `--check` only compares.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRegistry, getExtension, isFieldSet } from "@bufbuild/protobuf";
import { protoCamelCase, reflect } from "@bufbuild/protobuf/reflect";
import {
  EnumOptionsSchema,
  EnumValueOptionsSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  FileOptionsSchema,
  MessageOptionsSchema,
  OneofOptionsSchema,
} from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const root = new URL("..", import.meta.url).pathname;
const OUT = join(root, "proto/buf/validate/validate.proto");
// The package root: its exports map hides package.json, so go up from the entry point.
const pkgDir = fileURLToPath(import.meta.resolve("@bufbuild/protovalidate")).replace(/\/dist\/.*$/, "");
const version = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
// Upstream's license notice, as the package's own copy of this file carries it.
const generated = readFileSync(join(pkgDir, "dist/esm/gen/buf/validate/validate_pb.js"), "utf8").split("\n");
const licenseHeader = generated.slice(0, generated.findIndex((l) => !l.startsWith("//"))).join("\n");

const file = file_buf_validate_validate;
const fd = file.proto;
const pkg = `.${fd.package}.`;
// Extensions the file itself defines (e.g. `predefined`), to print custom options it uses.
const registry = createRegistry(file);

function unsupported(what) {
  throw new Error(`vendor-protovalidate: ${what} is not supported by this printer; extend it rather than hand-edit the output`);
}

// --- Protobuf text format, for option values -------------------------------------------------

const ESCAPES = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A string literal: the text as is, but quotes, backslashes and control characters escaped. */
function quote(s) {
  const escape = (ch) => ESCAPES[ch] ?? (ch < " " || ch === "\x7f" ? `\\${ch.charCodeAt(0).toString(8).padStart(3, "0")}` : ch);
  return `"${[...s].map(escape).join("")}"`;
}

function scalarText(field, value) {
  if (field.enum) return field.enum.values.find((v) => v.number === value)?.name ?? String(value);
  if (typeof value === "string") return quote(value);
  if (value instanceof Uint8Array) unsupported("a bytes option value");
  if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  return String(value);
}

/** A message as a text-format block body, one field per line. */
function textBody(msg, indent) {
  const lines = [];
  for (const field of msg.fields) {
    if (!msg.isSet(field)) continue;
    const values = field.fieldKind === "list" ? [...msg.get(field)] : field.fieldKind === "map" ? unsupported("a map in an option value") : [msg.get(field)];
    for (const v of values) {
      if (field.message) lines.push(`${indent}${field.name}: {\n${textBody(v, indent + "  ")}${indent}}`);
      else lines.push(`${indent}${field.name}: ${scalarText(field, v)}`);
    }
  }
  return lines.map((l) => l + "\n").join("");
}

/** `name = value` entries for an options message: standard options, then custom ones by extension. */
function optionEntries(schema, options, indent) {
  if (!options) return [];
  const out = [];
  const msg = reflect(schema, options);
  for (const field of msg.fields) {
    if (field.name === "uninterpreted_option" || !msg.isSet(field)) continue;
    if (field.message) unsupported(`the message-valued option ${schema.typeName}.${field.name}`);
    const values = field.fieldKind === "list" ? [...msg.get(field)] : [msg.get(field)];
    for (const v of values) out.push(`${field.name} = ${scalarText(field, v)}`);
  }
  const numbers = [...new Set((options.$unknown ?? []).map((u) => u.no))];
  for (const no of numbers) {
    const ext = registry.getExtensionFor(schema, no) ?? unsupported(`the unknown option ${schema.typeName} #${no}`);
    const name = ext.typeName.startsWith(pkg.slice(1)) ? ext.name : ext.typeName;
    const value = reflect(ext.message, getExtension(options, ext));
    const set = value.fields.filter((f) => value.isSet(f));
    // Upstream's form: one `(predefined).cel = {...}` per rule of a repeated field.
    if (set.length === 1 && set[0].fieldKind === "list" && set[0].message) {
      for (const item of value.get(set[0])) out.push(`(${name}).${set[0].name} = {\n${textBody(item, indent + "  ")}${indent}}`);
    } else {
      out.push(`(${name}) = {\n${textBody(value, indent + "  ")}${indent}}`);
    }
  }
  return out;
}

/** ` [a = 1, b = 2]` after a field or enum value, or "". */
function inlineOptions(entries, indent) {
  if (entries.length === 0) return "";
  if (entries.length === 1 && !entries[0].includes("\n")) return ` [${entries[0]}]`;
  return ` [\n${entries.map((e) => `${indent}  ${e.replaceAll("\n", `\n  `)}`).join(",\n")}\n${indent}]`;
}

function optionStatements(schema, options, indent) {
  return optionEntries(schema, options, indent).map((e) => `${indent}option ${e};\n`).join("");
}

// --- Declarations ------------------------------------------------------------------------------

const SCALAR = Object.fromEntries(
  Object.entries(FieldDescriptorProto_Type)
    .filter(([name]) => !["MESSAGE", "ENUM", "GROUP"].includes(name) && Number.isNaN(Number(name)))
    .map(([name, n]) => [n, name.toLowerCase()]),
);

function typeName(f) {
  if (f.type === FieldDescriptorProto_Type.GROUP) unsupported("a group field");
  if (f.typeName) return f.typeName.startsWith(pkg) ? f.typeName.slice(pkg.length) : f.typeName.slice(1);
  return SCALAR[f.type];
}

// proto2 presence: an unset oneof_index reads as 0.
const inOneof = (f) => isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex);

function fieldLine(f, indent, withLabel) {
  if (f.defaultValue) unsupported(`the default value of ${f.name}`);
  if (f.proto3Optional) unsupported(`proto3 optional ${f.name}`);
  const label = withLabel ? `${FieldDescriptorProto_Label[f.label].toLowerCase()} ` : "";
  const entries = optionEntries(FieldOptionsSchema, f.options, indent);
  if (f.jsonName && f.jsonName !== protoCamelCase(f.name)) entries.unshift(`json_name = ${quote(f.jsonName)}`);
  return `${indent}${label}${typeName(f)} ${f.name} = ${f.number}${inlineOptions(entries, indent)};\n`;
}

function rangeText(start, endExclusive) {
  const end = endExclusive - 1;
  return start === end ? `${start}` : `${start} to ${end === 536870911 ? "max" : end}`;
}

function messageText(m, indent) {
  if (m.nestedType.length > 0 || m.enumType.length > 0 || m.extension.length > 0) unsupported(`nested declarations in ${m.name}`);
  let out = `${indent}message ${m.name} {\n`;
  const inner = indent + "  ";
  out += optionStatements(MessageOptionsSchema, m.options, inner);
  const printedOneofs = new Set();
  m.field.forEach((f, i) => {
    if (!inOneof(f)) {
      out += fieldLine(f, inner, true);
      return;
    }
    const oi = f.oneofIndex;
    if (printedOneofs.has(oi)) return;
    printedOneofs.add(oi);
    const members = m.field.filter((g) => inOneof(g) && g.oneofIndex === oi);
    // Members must be contiguous, or printing them together would reorder the fields.
    if (m.field.indexOf(members[members.length - 1]) - i !== members.length - 1) unsupported(`non-contiguous oneof ${m.oneofDecl[oi].name}`);
    out += `${inner}oneof ${m.oneofDecl[oi].name} {\n`;
    out += optionStatements(OneofOptionsSchema, m.oneofDecl[oi].options, inner + "  ");
    for (const g of members) out += fieldLine(g, inner + "  ", false);
    out += `${inner}}\n`;
  });
  for (const r of m.extensionRange) {
    if (r.options) unsupported(`extension range options in ${m.name}`);
    out += `${inner}extensions ${rangeText(r.start, r.end)};\n`;
  }
  for (const r of m.reservedRange) out += `${inner}reserved ${rangeText(r.start, r.end)};\n`;
  for (const n of m.reservedName) out += `${inner}reserved ${quote(n)};\n`;
  return `${out}${indent}}\n`;
}

function enumText(e) {
  let out = `enum ${e.name} {\n`;
  out += optionStatements(EnumOptionsSchema, e.options, "  ");
  for (const v of e.value) out += `  ${v.name} = ${v.number}${inlineOptions(optionEntries(EnumValueOptionsSchema, v.options, "  "), "  ")};\n`;
  for (const r of e.reservedRange) out += `  reserved ${r.start === r.end ? r.start : `${r.start} to ${r.end}`};\n`;
  for (const n of e.reservedName) out += `  reserved ${quote(n)};\n`;
  return `${out}}\n`;
}

function extendBlocks(extensions) {
  const blocks = [];
  for (const x of extensions) {
    const last = blocks[blocks.length - 1];
    if (last && last.extendee === x.extendee) last.fields.push(x);
    else blocks.push({ extendee: x.extendee, fields: [x] });
  }
  return blocks.map((b) => `extend ${b.extendee.slice(1)} {\n${b.fields.map((x) => fieldLine(x, "  ", true)).join("")}}\n`);
}

/** The whole .proto source. */
function printValidateProto() {
  if (fd.syntax !== "" && fd.syntax !== "proto2") unsupported(`syntax "${fd.syntax}"`);
  if (fd.publicDependency.length > 0 || fd.weakDependency.length > 0 || fd.service.length > 0) unsupported("public/weak imports or services");
  const header = [
    licenseHeader,
    "",
    "// Generated by scripts/vendor-protovalidate.mjs from the descriptor embedded in",
    `// @bufbuild/protovalidate ${version}; do not edit. Documentation: https://protovalidate.com`,
    "",
  ].join("\n");
  const parts = [
    `syntax = "proto2";\n`,
    `package ${fd.package};\n`,
    fd.dependency.map((d) => `import ${quote(d)};\n`).join(""),
    optionStatements(FileOptionsSchema, fd.options, ""),
    ...extendBlocks(fd.extension),
    ...fd.messageType.map((m) => messageText(m, "")),
    ...fd.enumType.map(enumText),
  ];
  return `${header}\n${parts.filter((p) => p !== "").join("\n")}`;
}

const text = printValidateProto();
if (process.argv.includes("--check")) {
  const current = existsSync(OUT) ? readFileSync(OUT, "utf8") : "";
  if (current !== text) {
    console.error(`${OUT} is out of date with @bufbuild/protovalidate ${version}: run 'node scripts/vendor-protovalidate.mjs'`);
    process.exit(1);
  }
} else {
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT} (@bufbuild/protovalidate ${version})`);
}
