'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201163003_service_accounts extends Migration {

  async up() {
    this.addSql(`create table \`service_accounts\` (\`id\` integer not null primary key autoincrement, \`user_id\` bigint not null, \`name\` text not null, \`created_at\` bigint not null, \`revoked_at\` bigint null, constraint \`service_accounts_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`service_accounts_user_id_index\` on \`service_accounts\` (\`user_id\`);`);
    this.addSql(`create unique index \`service_accounts_user_id_unique\` on \`service_accounts\` (\`user_id\`);`);
    this.addSql(`create unique index \`service_accounts_name_unique\` on \`service_accounts\` (\`name\`);`);

    this.addSql(`create table \`service_keys\` (\`id\` integer not null primary key autoincrement, \`account_id\` bigint not null, \`key_prefix\` text not null, \`secret_hash\` text not null, \`created_at\` bigint not null, \`revoked_at\` bigint null, constraint \`service_keys_account_id_foreign\` foreign key(\`account_id\`) references \`service_accounts\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`service_keys_account_id_index\` on \`service_keys\` (\`account_id\`);`);
    this.addSql(`create unique index \`service_keys_key_prefix_unique\` on \`service_keys\` (\`key_prefix\`);`);
  }
}
exports.Migration20261201163003_service_accounts = Migration20261201163003_service_accounts;
