/**
 * `npm run admin -- <command> [args]`: what only the server's host may do, against the database that DATABASE_URL
 * (or the embedded default under DATA_DIR) names, the same variables the server reads.
 *   grant <username>    give the user the ADMIN role
 *   revoke <username>   take it back
 *   service create <name>   make a service account; prints its API key, the only time it is shown
 *   service rotate <name>   replace its keys with a new one (printed once); the old ones stop working at once
 *   service revoke <name>   revoke the account and its keys, at once
 *   service list            every account: name, id, state, live keys
 * Exit codes: 0 done, 1 refused (e.g. no such user), 2 bad usage or configuration.
 */
import 'reflect-metadata';
import { AdminService, NoSuchUserError } from '../src/admin/admin.service';
import { AdminStore } from '../src/admin/admin.store';
import { ConfigError, loadConfig } from '../src/config';
import { ServiceAccountRefused, ServiceAccountsService } from '../src/service-accounts/service-accounts.service';
import { ServiceAccountsStore } from '../src/service-accounts/service-accounts.store';
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

const SERVICE_USAGE = 'service create|rotate|revoke <name> | service list';

/** `service <action> [name]`: service accounts and their API keys (see src/service-accounts). */
const serviceCommand: Command = {
  usage: SERVICE_USAGE,
  async run(db, [action, name, ...rest]) {
    const service = new ServiceAccountsService(new ServiceAccountsStore(db), new AdminService(new AdminStore(db)));
    if (action === 'list' && name === undefined) {
      const accounts = await service.list();
      if (accounts.length === 0) return 'no service accounts';
      return accounts
        .map((a) => `${a.name}\tid ${a.id}\tuser ${a.userId}\t${a.revokedAt === null ? 'active' : `revoked ${new Date(a.revokedAt).toISOString()}`}\t${a.activeKeys} live key(s)`)
        .join('\n');
    }
    if (!name || rest.length > 0) throw new UsageError(`usage: npm run admin -- ${SERVICE_USAGE}`);
    switch (action) {
      case 'create': {
        const { account, key } = await service.create(name);
        return `service account ${account.name} created (user id ${account.userId}); its API key, shown only now:\n${key}`;
      }
      case 'rotate':
        return `new API key of ${name} (the old ones no longer work), shown only now:\n${await service.rotate(name)}`;
      case 'revoke':
        return `service account ${(await service.revoke(name)).name} and its keys are revoked`;
      default:
        throw new UsageError(`usage: npm run admin -- ${SERVICE_USAGE}`);
    }
  },
};

const commands: Record<string, Command> = {
  grant: roleCommand('ADMIN', 'grant'),
  revoke: roleCommand('USER', 'revoke'),
  service: serviceCommand,
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
    if (error instanceof NoSuchUserError || error instanceof ServiceAccountRefused) {
      console.error(error.message);
      return 1;
    }
    throw error;
  } finally {
    await db?.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
