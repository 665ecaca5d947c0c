// Prints the README's configuration table from the code's own specs (the README test checks it).
import { decisionConfigSpec } from "@lotty/decision-service/env";
import { configTable } from "@lotty/platform/config";
import { hostConfigSpec } from "@lotty/platform/host";

console.log(configTable({ ...hostConfigSpec, ...decisionConfigSpec }));
