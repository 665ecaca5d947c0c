export default { test: { include: ["bench/metrics/_cli/*.test.ts"], testTimeout: 120000 } };
