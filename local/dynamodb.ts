/**
 * DynamoDB for the local runtime: dynalite (a real DynamoDB implementation), in memory or
 * on disk (LevelDB under a git-ignored folder), with the program's tables created from
 * their recorded definitions. Tables already on disk are kept as they are.
 */
import * as fs from "node:fs";
import type { Server } from "node:http";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException, type CreateTableCommandInput, type KeySchemaElement } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import type { TableModel } from "./app";
import { closeServer, listen } from "./loopback";

function keySchema(hashKey: string, rangeKey?: string): KeySchemaElement[] {
  return [{ AttributeName: hashKey, KeyType: "HASH" }, ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: "RANGE" as const }] : [])];
}

/** The CreateTable input for a table as the program defines it. */
export function createTableInput(table: TableModel): CreateTableCommandInput {
  const projection = (index: { projectionType?: string; nonKeyAttributes?: string[] }) => ({
    ProjectionType: (index.projectionType ?? "ALL") as "ALL" | "KEYS_ONLY" | "INCLUDE",
    ...(index.nonKeyAttributes?.length ? { NonKeyAttributes: index.nonKeyAttributes } : {}),
  });
  return {
    TableName: table.name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: table.attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type as "S" | "N" | "B" })),
    KeySchema: keySchema(table.hashKey, table.rangeKey),
    ...(table.globalSecondaryIndexes.length ? {
      GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((gsi) => ({ IndexName: gsi.name, KeySchema: keySchema(gsi.hashKey, gsi.rangeKey), Projection: projection(gsi) })),
    } : {}),
    ...(table.localSecondaryIndexes.length ? {
      LocalSecondaryIndexes: table.localSecondaryIndexes.map((lsi) => ({ IndexName: lsi.name, KeySchema: keySchema(table.hashKey, lsi.rangeKey), Projection: projection(lsi) })),
    } : {}),
  };
}

export interface LocalDynamo {
  endpoint: string;
  /** Tables created now (not found on disk). */
  created: string[];
  stop(): Promise<void>;
}

export async function startDynamo(tables: TableModel[], options: { path?: string; region: string; port?: number }): Promise<LocalDynamo> {
  if (options.path) fs.mkdirSync(options.path, { recursive: true });
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  const endpoint = await listen(server, options.port ?? 0);
  const client = new DynamoDBClient({ region: options.region, endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const created: string[] = [];
  try {
    for (const table of tables) {
      try {
        await client.send(new CreateTableCommand(createTableInput(table)));
        created.push(table.name);
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      for (let attempt = 0; ; attempt++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
        if (Table?.TableStatus === "ACTIVE") break;
        if (attempt > 200) throw new Error(`Table ${table.name} is still ${Table?.TableStatus}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } catch (error) {
    client.destroy();
    await closeServer(server);
    throw error;
  }
  client.destroy();
  return {
    endpoint,
    created,
    // dynalite's close also closes its store, so a later run can open the same folder.
    stop: () => closeServer(server),
  };
}
