import { openPglite } from "../../src/db/index.js";
import { dbContract } from "./contract.js";

dbContract("pglite (in memory)", () => openPglite());
