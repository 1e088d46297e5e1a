'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201162609_bans extends Migration {

  async up() {
    this.addSql(`create table \`bans\` (\`id\` integer not null primary key autoincrement, \`subject_type\` text not null, \`subject_id\` bigint not null, \`reason\` text not null, \`until\` bigint null, \`banned_by\` bigint not null, \`created_at\` bigint not null, \`lifted_at\` bigint null, \`lifted_by\` bigint null, \`lift_reason\` text null);`);
    this.addSql(`create index \`bans_subject_type_subject_id_lifted_at_index\` on \`bans\` (\`subject_type\`, \`subject_id\`, \`lifted_at\`);`);
  }
}
exports.Migration20261201162609_bans = Migration20261201162609_bans;
