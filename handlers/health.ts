import { httpHandler, json } from "./lib/http";

/** GET /health: liveness of the function itself; touches no AWS service. */
export const handler = httpHandler(async () => json(200, { status: "ok" }), { public: true });
