import { type Db, MongoClient } from 'mongodb';

/**
 * One client per process, connected at start-up. Short server-selection timeouts make a dead
 * database fail a call within its deadline (as UNAVAILABLE) instead of hanging it; the driver
 * reconnects by itself when the server is back.
 */
export async function connectMongo(url: string, dbName: string): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 1_500,
    // How often the driver re-checks a server it lost: the default 10 s kept a returned database
    // unused for that long (seen under load in scripts/chaos.ts); 1 s keeps recovery within seconds.
    heartbeatFrequencyMS: 1_000,
    connectTimeoutMS: 1_500,
    socketTimeoutMS: 10_000,
    maxPoolSize: 20,
    retryWrites: false, // FerretDB 1.x has no retryable writes
  });
  await client.connect();
  return { client, db: client.db(dbName) };
}
