import { create, createFileRegistry, getOption, setExtension } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FieldOptionsSchema, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { field, FieldRulesSchema, file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { ValueType } from "@lotty/proto/common";
import { DecideRequestSchema, DecisionService, file_lotty_decision_v1_decision } from "@lotty/proto/decision";
import { ExperimentService, file_lotty_experiment_v1_experiment_service } from "@lotty/proto/experiment";
import { file_lotty_guardrail_v1_guardrail } from "@lotty/proto/guardrail";
import { file_lotty_metrics_v1_metrics } from "@lotty/proto/metrics";
import { file_lotty_notification_v1_notification } from "@lotty/proto/notification";
import { describe, expect, it } from "vitest";
import { fieldViolationsOf } from "../../src/rpc/errors.js";
import { validatedRouter } from "../../src/rpc/validation.js";

const refused = (e: unknown) => ConnectError.from(e);
const unexpected = (): never => {
  throw new Error("expected the call to fail");
};

describe("request validation (protovalidate annotations)", () => {
  /** ExperimentService.CreateFlag behind the interceptor; `reached` lists the requests the handler saw. */
  function createFlagClient() {
    const reached: string[] = [];
    const transport = createRouterTransport(
      ({ service }) =>
        service(ExperimentService, {
          createFlag: (req) => {
            reached.push(req.key);
            return { flag: { key: req.key } };
          },
        }),
      validatedRouter(),
    );
    return { client: createClient(ExperimentService, transport), reached };
  }

  it("refuses a request breaking its rules with INVALID_ARGUMENT, one violation per rule, before the handler", async () => {
    const { client, reached } = createFlagClient();
    const err = await client.createFlag({ key: "Not A Key", valueType: ValueType.UNSPECIFIED, description: "d".repeat(4097) }).then(unexpected, refused);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolationsOf(err)).toEqual([
      { field: "key", description: "does not match regex pattern `^[a-z][a-z0-9_.-]*$`" },
      { field: "description", description: "must be at most 4096 characters" },
      { field: "value_type", description: "value is required" },
    ]);
    expect(err.rawMessage).toContain('field "value_type": value is required');
    expect(reached).toEqual([]);
  });

  it("passes a valid request to the handler as it came", async () => {
    const { client, reached } = createFlagClient();
    await expect(client.createFlag({ key: "checkout.v2", valueType: ValueType.BOOL })).resolves.toMatchObject({ flag: { key: "checkout.v2" } });
    expect(reached).toEqual(["checkout.v2"]);
  });

  it("leaves Decide and DecideBatch to their handlers (hot path, same rules checked in code)", async () => {
    const seen: string[] = [];
    const transport = createRouterTransport(
      ({ service }) =>
        service(DecisionService, {
          decide: (req) => (seen.push(`decide:${req.subjectId}`), {}),
          decideBatch: (req) => (seen.push(`batch:${req.subjectId}`), {}),
          getAssignments: (req) => (seen.push(`assignments:${req.subjectId}`), {}),
        }),
      validatedRouter(),
    );
    const client = createClient(DecisionService, transport);
    await client.decide({});
    await client.decideBatch({});
    const err = await client.getAssignments({}).then(unexpected, refused);
    expect(fieldViolationsOf(err)).toEqual([{ field: "subject_id", description: "value is required" }]);
    expect(seen).toEqual(["decide:", "batch:"]);
  });

  it("reads the rules our generated descriptors carry with protovalidate's own extension", () => {
    const rules = getOption(DecideRequestSchema.field.subjectId, field);
    expect(rules.required).toBe(true);
    expect(rules.type).toMatchObject({ case: "string", value: { maxLen: 256n } });
  });

  it("has every request message of every Lotty service compile its rules", () => {
    const validator = createValidator();
    const files = [file_lotty_decision_v1_decision, file_lotty_experiment_v1_experiment_service, file_lotty_guardrail_v1_guardrail, file_lotty_metrics_v1_metrics, file_lotty_notification_v1_notification];
    const inputs = files.flatMap((f) => f.services.flatMap((s) => s.methods.map((m) => m.input)));
    expect(inputs.length).toBeGreaterThan(70);
    const broken = inputs.flatMap((schema) => {
      const result = validator.validate(schema, create(schema));
      return result.kind === "error" ? [`${schema.typeName}: ${result.error.message}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it("answers INTERNAL, not INVALID_ARGUMENT, when a rule cannot be compiled (our bug)", async () => {
    // String rules on an int32 field: a mistake buf accepts and protovalidate refuses to plan.
    const options = create(FieldOptionsSchema);
    setExtension(options, field, create(FieldRulesSchema, { type: { case: "string", value: { minLen: 1n } } }));
    const proto = create(FileDescriptorProtoSchema, {
      name: "broken.proto",
      package: "broken",
      syntax: "proto3",
      dependency: [file_buf_validate_validate.proto.name],
      messageType: [{ name: "Req", field: [{ name: "n", jsonName: "n", number: 1, type: FieldDescriptorProto_Type.INT32, label: FieldDescriptorProto_Label.OPTIONAL, options }] }],
      service: [{ name: "Broken", method: [{ name: "Call", inputType: ".broken.Req", outputType: ".broken.Req" }] }],
    });
    const broken = createFileRegistry(proto, (name) => (name === file_buf_validate_validate.proto.name ? file_buf_validate_validate : undefined)).getService("broken.Broken")!;
    // A service built at run time has no generated types to check the implementation against.
    const transport = createRouterTransport(({ service }) => service(broken, { call: (req: unknown) => req } as never), validatedRouter());
    const client = createClient(broken, transport) as unknown as { call(req: object): Promise<unknown> };
    const err = await client.call({}).then(unexpected, refused);
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toMatch(/^validating broken\.Req: /);
  });
});
