export { createAdmission, DEFAULT_ADMISSION, type AdmissionControl, type AdmissionOptions } from "./admission.js";
export { admissionFromConfig } from "./config.js";
export { AdmissionController, type AdmissionPolicy, type ClassBudget, type ClassState, type Verdict } from "./controller.js";
export { classifyHttp, classifyRpc, PRIORITY_CLASSES, type Admission, type PriorityClass } from "./classes.js";
