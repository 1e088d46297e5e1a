/**
 * `npm run admin -- <command> [args]`: what only the server's host may do, against the database that DATABASE_URL
 * (or the embedded default under DATA_DIR) names, the same variables the server reads.
 *   grant <username>    give the user the ADMIN role
 *   revoke <username>   take it back
 * Exit codes: 0 done, 1 refused (e.g. no such user), 2 bad usage or configuration.
 */
import 'reflect-metadata';
import { AdminService, NoSuchUserError } from '../src/admin/admin.service';
import { AdminStore } from '../src/admin/admin.store';
import { ConfigError, loadConfig } from '../src/config';
import { openDatabase, type Database } from '../src/db/database';

/** One subcommand: its usage line and what it does with the open database; it returns the line to print. */
interface Command {
  usage: string;
  run(db: Database, args: string[]): Promise<string>;
}

class UsageError extends Error {}

const roleCommand = (role: 'ADMIN' | 'USER', verb: string): Command => ({
  usage: `${verb} <username>`,
  async run(db, [username, ...rest]) {
    if (!username || rest.length > 0) throw new UsageError(`usage: npm run admin -- ${verb} <username>`);
    await new AdminService(new AdminStore(db)).setRole(username, role);
    return role === 'ADMIN' ? `${username} is now an admin` : `${username} is no longer an admin`;
  },
});

const commands: Record<string, Command> = {
  grant: roleCommand('ADMIN', 'grant'),
  revoke: roleCommand('USER', 'revoke'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (!command) {
    console.error(`usage: npm run admin -- <command>\n${Object.values(commands).map((c) => `  ${c.usage}`).join('\n')}`);
    return 2;
  }
  let db: Database | undefined;
  try {
    db = await openDatabase(loadConfig().database);
    console.log(await command.run(db, args));
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof NoSuchUserError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  } finally {
    await db?.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
