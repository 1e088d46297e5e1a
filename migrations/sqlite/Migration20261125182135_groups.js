'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261125182135_groups extends Migration {

  async up() {
    this.addSql(`create table \`groups\` (\`id\` integer not null primary key autoincrement, \`conversation_id\` bigint not null, \`name\` text not null, \`avatar_url\` text null, \`notice\` text null, \`owner_id\` bigint not null, \`dissolved_at\` bigint null, \`created_at\` bigint not null, \`updated_at\` bigint not null, constraint \`groups_conversation_id_foreign\` foreign key(\`conversation_id\`) references \`conversations\`(\`id\`) on update cascade, constraint \`groups_owner_id_foreign\` foreign key(\`owner_id\`) references \`users\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`groups_conversation_id_unique\` on \`groups\` (\`conversation_id\`);`);
    this.addSql(`create index \`groups_owner_id_index\` on \`groups\` (\`owner_id\`);`);

    this.addSql(`create table \`group_members\` (\`id\` integer not null primary key autoincrement, \`group_id\` bigint not null, \`user_id\` bigint not null, \`role\` text not null, \`joined_at\` bigint not null, constraint \`group_members_group_id_foreign\` foreign key(\`group_id\`) references \`groups\`(\`id\`) on delete cascade on update cascade, constraint \`group_members_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`group_members_group_id_index\` on \`group_members\` (\`group_id\`);`);
    this.addSql(`create index \`group_members_user_id_index\` on \`group_members\` (\`user_id\`);`);
    this.addSql(`create unique index \`group_members_group_id_user_id_unique\` on \`group_members\` (\`group_id\`, \`user_id\`);`);
  }
}
exports.Migration20261125182135_groups = Migration20261125182135_groups;
