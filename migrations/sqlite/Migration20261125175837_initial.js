'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261125175837_initial extends Migration {

  async up() {
    this.addSql(`create table \`conversations\` (\`id\` integer not null primary key autoincrement, \`type\` text not null, \`user_lo\` bigint null, \`user_hi\` bigint null, \`last_seq\` integer not null default 0, \`last_message_at\` bigint null, \`created_at\` bigint not null);`);
    this.addSql(`create unique index \`conversations_user_lo_user_hi_unique\` on \`conversations\` (\`user_lo\`, \`user_hi\`);`);

    this.addSql(`create table \`users\` (\`id\` integer not null primary key autoincrement, \`username\` text not null, \`username_key\` text not null, \`nickname\` text not null, \`avatar_url\` text null, \`signature\` text null, \`password_hash\` text not null, \`created_at\` bigint not null, \`updated_at\` bigint not null);`);
    this.addSql(`create unique index \`users_username_key_unique\` on \`users\` (\`username_key\`);`);
    this.addSql(`create index \`users_nickname_index\` on \`users\` (\`nickname\`);`);

    this.addSql(`create table \`sessions\` (\`id\` text not null, \`user_id\` bigint not null, \`terminal\` text not null, \`refresh_hash\` text not null, \`created_at\` bigint not null, \`refresh_expires_at\` bigint not null, \`ended_at\` bigint null, \`ended_reason\` text null, constraint \`sessions_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`sessions_user_id_index\` on \`sessions\` (\`user_id\`);`);
    this.addSql(`create index \`sessions_user_id_terminal_index\` on \`sessions\` (\`user_id\`, \`terminal\`);`);

    this.addSql(`create table \`messages\` (\`id\` integer not null primary key autoincrement, \`conversation_id\` bigint not null, \`seq\` integer not null, \`sender_id\` bigint not null, \`type\` text not null, \`content\` text not null, \`status\` text not null, \`client_message_id\` text not null, \`mentions\` text null, \`created_at\` bigint not null, constraint \`messages_conversation_id_foreign\` foreign key(\`conversation_id\`) references \`conversations\`(\`id\`) on update cascade, constraint \`messages_sender_id_foreign\` foreign key(\`sender_id\`) references \`users\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`messages_conversation_id_index\` on \`messages\` (\`conversation_id\`);`);
    this.addSql(`create index \`messages_sender_id_index\` on \`messages\` (\`sender_id\`);`);
    this.addSql(`create unique index \`messages_sender_id_client_message_id_unique\` on \`messages\` (\`sender_id\`, \`client_message_id\`);`);
    this.addSql(`create unique index \`messages_conversation_id_seq_unique\` on \`messages\` (\`conversation_id\`, \`seq\`);`);

    this.addSql(`create table \`friendships\` (\`id\` integer not null primary key autoincrement, \`user_id\` bigint not null, \`friend_id\` bigint not null, \`conversation_id\` bigint not null, \`remark\` text null, \`created_at\` bigint not null, constraint \`friendships_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, constraint \`friendships_friend_id_foreign\` foreign key(\`friend_id\`) references \`users\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`friendships_user_id_index\` on \`friendships\` (\`user_id\`);`);
    this.addSql(`create index \`friendships_friend_id_index\` on \`friendships\` (\`friend_id\`);`);
    this.addSql(`create unique index \`friendships_user_id_friend_id_unique\` on \`friendships\` (\`user_id\`, \`friend_id\`);`);

    this.addSql(`create table \`contacts\` (\`id\` integer not null primary key autoincrement, \`user_id\` bigint not null, \`conversation_id\` bigint not null, \`type\` text not null, \`peer\` bigint null, \`group_id\` bigint null, \`read_seq\` integer not null default 0, \`pinned\` integer not null default false, \`muted\` integer not null default false, \`hidden_seq\` integer null, \`visible_from_seq\` integer not null default 0, \`visible_to_seq\` integer null, \`created_at\` bigint not null, \`updated_at\` bigint not null, constraint \`contacts_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, constraint \`contacts_conversation_id_foreign\` foreign key(\`conversation_id\`) references \`conversations\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`contacts_user_id_index\` on \`contacts\` (\`user_id\`);`);
    this.addSql(`create index \`contacts_conversation_id_index\` on \`contacts\` (\`conversation_id\`);`);
    this.addSql(`create unique index \`contacts_user_id_conversation_id_unique\` on \`contacts\` (\`user_id\`, \`conversation_id\`);`);

    this.addSql(`create table \`applications\` (\`id\` integer not null primary key autoincrement, \`type\` text not null, \`applicant_id\` bigint not null, \`target_user_id\` bigint null, \`group_id\` bigint null, \`message\` text null, \`status\` text not null, \`pending_key\` text null, \`created_at\` bigint not null, \`updated_at\` bigint not null, constraint \`applications_applicant_id_foreign\` foreign key(\`applicant_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, constraint \`applications_target_user_id_foreign\` foreign key(\`target_user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`applications_applicant_id_index\` on \`applications\` (\`applicant_id\`);`);
    this.addSql(`create index \`applications_target_user_id_index\` on \`applications\` (\`target_user_id\`);`);
    this.addSql(`create index \`applications_group_id_index\` on \`applications\` (\`group_id\`);`);
    this.addSql(`create unique index \`applications_pending_key_unique\` on \`applications\` (\`pending_key\`);`);
    this.addSql(`create index \`applications_applicant_id_status_index\` on \`applications\` (\`applicant_id\`, \`status\`);`);
    this.addSql(`create index \`applications_target_user_id_status_index\` on \`applications\` (\`target_user_id\`, \`status\`);`);
  }

}
exports.Migration20261125175837_initial = Migration20261125175837_initial;
