export { logGamma, logBeta, regularizedGammaQ, stirlingCorrection } from "./gamma.js";
export { regularizedBeta, type BetaArgument } from "./beta.js";
