'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261125182135_groups extends Migration {

  async up() {
    this.addSql(`create table \`groups\` (\`id\` bigint unsigned not null auto_increment primary key, \`conversation_id\` bigint unsigned not null, \`name\` varchar(32) not null, \`avatar_url\` varchar(1024) null, \`notice\` varchar(1000) null, \`owner_id\` bigint unsigned not null, \`dissolved_at\` bigint null, \`created_at\` bigint not null, \`updated_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`groups\` add unique \`groups_conversation_id_unique\`(\`conversation_id\`);`);
    this.addSql(`alter table \`groups\` add index \`groups_owner_id_index\`(\`owner_id\`);`);

    this.addSql(`create table \`group_members\` (\`id\` bigint unsigned not null auto_increment primary key, \`group_id\` bigint unsigned not null, \`user_id\` bigint unsigned not null, \`role\` varchar(8) not null, \`joined_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`group_members\` add index \`group_members_group_id_index\`(\`group_id\`);`);
    this.addSql(`alter table \`group_members\` add index \`group_members_user_id_index\`(\`user_id\`);`);
    this.addSql(`alter table \`group_members\` add unique \`group_members_group_id_user_id_unique\`(\`group_id\`, \`user_id\`);`);

    this.addSql(`alter table \`groups\` add constraint \`groups_conversation_id_foreign\` foreign key (\`conversation_id\`) references \`conversations\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`groups\` add constraint \`groups_owner_id_foreign\` foreign key (\`owner_id\`) references \`users\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`group_members\` add constraint \`group_members_group_id_foreign\` foreign key (\`group_id\`) references \`groups\` (\`id\`) on update cascade on delete cascade;`);
    this.addSql(`alter table \`group_members\` add constraint \`group_members_user_id_foreign\` foreign key (\`user_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);
  }

  async down() {
    this.addSql(`alter table \`group_members\` drop foreign key \`group_members_group_id_foreign\`;`);

    this.addSql(`drop table if exists \`groups\`;`);

    this.addSql(`drop table if exists \`group_members\`;`);
  }
}
exports.Migration20261125182135_groups = Migration20261125182135_groups;
