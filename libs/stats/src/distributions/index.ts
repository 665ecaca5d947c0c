export { normalCdf, normalSf, normalLogSf, normalPdf, normalPpf, normalIsf } from "./normal.js";
export { studentTSf, studentTCdf, studentTIsf, studentTPpf, studentTLogPdf } from "./studentT.js";
export { chiSquareSf } from "./chiSquare.js";
