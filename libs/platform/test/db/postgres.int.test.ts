import { afterAll, beforeAll } from "vitest";
import { dropDatabase, ensureDatabase, openPostgres } from "../../src/db/index.js";
import { dbContract } from "./contract.js";
import { adminUrl, uniqueDbName, urlFor } from "./pg-env.js";

const name = uniqueDbName("contract");
beforeAll(() => ensureDatabase(adminUrl, name));
afterAll(() => dropDatabase(adminUrl, name));

dbContract("postgres", async () => openPostgres(urlFor(name), { max: 4, statementTimeoutMs: 10_000 }));
