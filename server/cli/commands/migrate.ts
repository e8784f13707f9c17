// migrate: applies pending migrations, for deployments that run them as a release step.
import { openDatabase } from '../../../db/client.ts';
import { defineCommand } from '../command.ts';

export const migrate = defineCommand({
  name: 'migrate',
  summary: 'apply pending database migrations',
  description: `
Applies the migrations the database lacks, in one transaction, under the same lock instances take
at start: safe while instances run or start. Prints each migration applied. Instances started with
MIGRATE_ON_START=false refuse a database that lacks one.`,
  options: {},
  async run({ config }) {
    const applied: string[] = [];
    const database = await openDatabase(config().database, { onApplied: (name) => applied.push(name) });
    await database.close();
    return { data: { applied }, text: applied.length === 0 ? 'the database is up to date' : applied.map((name) => `applied ${name}`).join('\n') };
  },
});
