'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201162614_bans extends Migration {

  async up() {
    this.addSql(`create table \`bans\` (\`id\` bigint unsigned not null auto_increment primary key, \`subject_type\` varchar(8) not null, \`subject_id\` bigint not null, \`reason\` varchar(500) not null, \`until\` bigint null, \`banned_by\` bigint not null, \`created_at\` bigint not null, \`lifted_at\` bigint null, \`lifted_by\` bigint null, \`lift_reason\` varchar(500) null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`bans\` add index \`bans_subject_type_subject_id_lifted_at_index\`(\`subject_type\`, \`subject_id\`, \`lifted_at\`);`);
  }
}
exports.Migration20261201162614_bans = Migration20261201162614_bans;
