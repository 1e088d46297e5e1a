'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261125175837_initial extends Migration {

  async up() {
    this.addSql(`create table \`conversations\` (\`id\` bigint unsigned not null auto_increment primary key, \`type\` varchar(8) not null, \`user_lo\` bigint null, \`user_hi\` bigint null, \`last_seq\` int not null default 0, \`last_message_at\` bigint null, \`created_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`conversations\` add unique \`conversations_user_lo_user_hi_unique\`(\`user_lo\`, \`user_hi\`);`);

    this.addSql(`create table \`users\` (\`id\` bigint unsigned not null auto_increment primary key, \`username\` varchar(32) not null, \`username_key\` varchar(32) not null, \`nickname\` varchar(32) not null, \`avatar_url\` varchar(1024) null, \`signature\` varchar(200) null, \`password_hash\` varchar(255) not null, \`created_at\` bigint not null, \`updated_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`users\` add unique \`users_username_key_unique\`(\`username_key\`);`);
    this.addSql(`alter table \`users\` add index \`users_nickname_index\`(\`nickname\`);`);

    this.addSql(`create table \`sessions\` (\`id\` varchar(36) not null, \`user_id\` bigint unsigned not null, \`terminal\` varchar(8) not null, \`refresh_hash\` varchar(64) not null, \`created_at\` bigint not null, \`refresh_expires_at\` bigint not null, \`ended_at\` bigint null, \`ended_reason\` varchar(32) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`sessions\` add index \`sessions_user_id_index\`(\`user_id\`);`);
    this.addSql(`alter table \`sessions\` add index \`sessions_user_id_terminal_index\`(\`user_id\`, \`terminal\`);`);

    this.addSql(`create table \`messages\` (\`id\` bigint unsigned not null auto_increment primary key, \`conversation_id\` bigint unsigned not null, \`seq\` int not null, \`sender_id\` bigint unsigned not null, \`type\` varchar(8) not null, \`content\` text not null, \`status\` varchar(8) not null, \`client_message_id\` varchar(64) not null, \`mentions\` varchar(512) null, \`created_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`messages\` add index \`messages_conversation_id_index\`(\`conversation_id\`);`);
    this.addSql(`alter table \`messages\` add index \`messages_sender_id_index\`(\`sender_id\`);`);
    this.addSql(`alter table \`messages\` add unique \`messages_sender_id_client_message_id_unique\`(\`sender_id\`, \`client_message_id\`);`);
    this.addSql(`alter table \`messages\` add unique \`messages_conversation_id_seq_unique\`(\`conversation_id\`, \`seq\`);`);

    this.addSql(`create table \`friendships\` (\`id\` bigint unsigned not null auto_increment primary key, \`user_id\` bigint unsigned not null, \`friend_id\` bigint unsigned not null, \`conversation_id\` bigint not null, \`remark\` varchar(64) null, \`created_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`friendships\` add index \`friendships_user_id_index\`(\`user_id\`);`);
    this.addSql(`alter table \`friendships\` add index \`friendships_friend_id_index\`(\`friend_id\`);`);
    this.addSql(`alter table \`friendships\` add unique \`friendships_user_id_friend_id_unique\`(\`user_id\`, \`friend_id\`);`);

    this.addSql(`create table \`contacts\` (\`id\` bigint unsigned not null auto_increment primary key, \`user_id\` bigint unsigned not null, \`conversation_id\` bigint unsigned not null, \`type\` varchar(8) not null, \`peer\` bigint null, \`group_id\` bigint null, \`read_seq\` int not null default 0, \`pinned\` tinyint(1) not null default false, \`muted\` tinyint(1) not null default false, \`hidden_seq\` int null, \`visible_from_seq\` int not null default 0, \`visible_to_seq\` int null, \`created_at\` bigint not null, \`updated_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`contacts\` add index \`contacts_user_id_index\`(\`user_id\`);`);
    this.addSql(`alter table \`contacts\` add index \`contacts_conversation_id_index\`(\`conversation_id\`);`);
    this.addSql(`alter table \`contacts\` add unique \`contacts_user_id_conversation_id_unique\`(\`user_id\`, \`conversation_id\`);`);

    this.addSql(`create table \`applications\` (\`id\` bigint unsigned not null auto_increment primary key, \`type\` varchar(8) not null, \`applicant_id\` bigint unsigned not null, \`target_user_id\` bigint unsigned null, \`group_id\` bigint null, \`message\` varchar(200) null, \`status\` varchar(8) not null, \`pending_key\` varchar(80) null, \`created_at\` bigint not null, \`updated_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`applications\` add index \`applications_applicant_id_index\`(\`applicant_id\`);`);
    this.addSql(`alter table \`applications\` add index \`applications_target_user_id_index\`(\`target_user_id\`);`);
    this.addSql(`alter table \`applications\` add index \`applications_group_id_index\`(\`group_id\`);`);
    this.addSql(`alter table \`applications\` add unique \`applications_pending_key_unique\`(\`pending_key\`);`);
    this.addSql(`alter table \`applications\` add index \`applications_applicant_id_status_index\`(\`applicant_id\`, \`status\`);`);
    this.addSql(`alter table \`applications\` add index \`applications_target_user_id_status_index\`(\`target_user_id\`, \`status\`);`);

    this.addSql(`alter table \`sessions\` add constraint \`sessions_user_id_foreign\` foreign key (\`user_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);

    this.addSql(`alter table \`messages\` add constraint \`messages_conversation_id_foreign\` foreign key (\`conversation_id\`) references \`conversations\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`messages\` add constraint \`messages_sender_id_foreign\` foreign key (\`sender_id\`) references \`users\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`friendships\` add constraint \`friendships_user_id_foreign\` foreign key (\`user_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);
    this.addSql(`alter table \`friendships\` add constraint \`friendships_friend_id_foreign\` foreign key (\`friend_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);

    this.addSql(`alter table \`contacts\` add constraint \`contacts_user_id_foreign\` foreign key (\`user_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);
    this.addSql(`alter table \`contacts\` add constraint \`contacts_conversation_id_foreign\` foreign key (\`conversation_id\`) references \`conversations\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`applications\` add constraint \`applications_applicant_id_foreign\` foreign key (\`applicant_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);
    this.addSql(`alter table \`applications\` add constraint \`applications_target_user_id_foreign\` foreign key (\`target_user_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);
  }

  async down() {
    this.addSql(`alter table \`messages\` drop foreign key \`messages_conversation_id_foreign\`;`);

    this.addSql(`alter table \`contacts\` drop foreign key \`contacts_conversation_id_foreign\`;`);

    this.addSql(`alter table \`sessions\` drop foreign key \`sessions_user_id_foreign\`;`);

    this.addSql(`alter table \`messages\` drop foreign key \`messages_sender_id_foreign\`;`);

    this.addSql(`alter table \`friendships\` drop foreign key \`friendships_user_id_foreign\`;`);

    this.addSql(`alter table \`friendships\` drop foreign key \`friendships_friend_id_foreign\`;`);

    this.addSql(`alter table \`contacts\` drop foreign key \`contacts_user_id_foreign\`;`);

    this.addSql(`alter table \`applications\` drop foreign key \`applications_applicant_id_foreign\`;`);

    this.addSql(`alter table \`applications\` drop foreign key \`applications_target_user_id_foreign\`;`);

    this.addSql(`drop table if exists \`conversations\`;`);

    this.addSql(`drop table if exists \`users\`;`);

    this.addSql(`drop table if exists \`sessions\`;`);

    this.addSql(`drop table if exists \`messages\`;`);

    this.addSql(`drop table if exists \`friendships\`;`);

    this.addSql(`drop table if exists \`contacts\`;`);

    this.addSql(`drop table if exists \`applications\`;`);
  }

}
exports.Migration20261125175837_initial = Migration20261125175837_initial;
