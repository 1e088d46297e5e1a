'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201162032_admin_role extends Migration {

  async up() {
    this.addSql(`create table \`audit_log\` (\`id\` integer not null primary key autoincrement, \`actor_id\` bigint null, \`action\` text not null, \`subject_type\` text not null, \`subject_id\` text null, \`reason\` text null, \`details\` text null, \`created_at\` bigint not null);`);
    this.addSql(`create index \`audit_log_actor_id_index\` on \`audit_log\` (\`actor_id\`);`);
    this.addSql(`create index \`audit_log_action_index\` on \`audit_log\` (\`action\`);`);
    this.addSql(`create index \`audit_log_created_at_index\` on \`audit_log\` (\`created_at\`);`);
    this.addSql(`create index \`audit_log_subject_type_subject_id_index\` on \`audit_log\` (\`subject_type\`, \`subject_id\`);`);

    this.addSql(`alter table \`users\` add column \`role\` text not null default 'USER';`);
  }
}
exports.Migration20261201162032_admin_role = Migration20261201162032_admin_role;
