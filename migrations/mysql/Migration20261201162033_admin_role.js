'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201162033_admin_role extends Migration {

  async up() {
    this.addSql(`create table \`audit_log\` (\`id\` bigint unsigned not null auto_increment primary key, \`actor_id\` bigint null, \`action\` varchar(32) not null, \`subject_type\` varchar(16) not null, \`subject_id\` varchar(64) null, \`reason\` varchar(500) null, \`details\` text null, \`created_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_actor_id_index\`(\`actor_id\`);`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_action_index\`(\`action\`);`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_created_at_index\`(\`created_at\`);`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_subject_type_subject_id_index\`(\`subject_type\`, \`subject_id\`);`);

    this.addSql(`alter table \`users\` add \`role\` varchar(16) not null default 'USER';`);
  }
}
exports.Migration20261201162033_admin_role = Migration20261201162033_admin_role;
