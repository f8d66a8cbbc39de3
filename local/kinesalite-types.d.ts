// kinesalite ships no types; this is the part of its API the local runtime uses.
declare module "kinesalite" {
  import type { Server } from "node:http";

  interface KinesaliteOptions {
    /** Time streams stay CREATING, in ms. @default 500 */
    createStreamMs?: number;
    /** Time streams stay DELETING, in ms. @default 500 */
    deleteStreamMs?: number;
    /** Time streams stay UPDATING, in ms. @default 500 */
    updateStreamMs?: number;
    /** Shards per account. @default 10 */
    shardLimit?: number;
    /** LevelDB directory; in memory when absent. */
    path?: string;
  }

  function kinesalite(options?: KinesaliteOptions): Server;
  export = kinesalite;
}
