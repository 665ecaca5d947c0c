import { configTable } from "@lotty/platform/config";
import { hostConfigSpec } from "@lotty/platform/host";
console.log(configTable(hostConfigSpec));
