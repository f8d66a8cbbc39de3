export * from "./secure-function";
export * from "./serverless-api";
export * from "./queue-worker";
export * from "./stream-worker";
export { BundlingOptions } from "./bundling";
export { PermissionStatement } from "./policy";
export { ArgumentProblem, ComponentArgumentsError } from "./validation";
export * from "./event-worker";
export { LIBRARY_TAG_KEYS, TaggableArgs, tagging } from "./tags";
