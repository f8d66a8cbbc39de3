// dynalite ships no types; this is the part of its API the handler tests use.
declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    /** Time tables stay CREATING, in ms. @default 500 */
    createTableMs?: number;
    /** Time tables stay DELETING, in ms. @default 500 */
    deleteTableMs?: number;
    /** Time tables stay UPDATING, in ms. @default 500 */
    updateTableMs?: number;
    /** Maximum item size, in KB. @default 400 */
    maxItemSizeKb?: number;
    /** LevelDB directory; in memory when absent. */
    path?: string;
  }

  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
