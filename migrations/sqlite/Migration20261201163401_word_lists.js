'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201163401_word_lists extends Migration {

  async up() {
    this.addSql(`create table \`word_lists\` (\`id\` integer not null primary key autoincrement, \`name\` text not null, \`action\` text not null, \`version\` integer not null, \`created_at\` bigint not null, \`updated_at\` bigint not null);`);
    this.addSql(`create unique index \`word_lists_name_unique\` on \`word_lists\` (\`name\`);`);

    this.addSql(`create table \`words\` (\`id\` integer not null primary key autoincrement, \`list_id\` bigint not null, \`word\` text not null, constraint \`words_list_id_foreign\` foreign key(\`list_id\`) references \`word_lists\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`words_list_id_index\` on \`words\` (\`list_id\`);`);
    this.addSql(`create unique index \`words_list_id_word_unique\` on \`words\` (\`list_id\`, \`word\`);`);
  }
}
exports.Migration20261201163401_word_lists = Migration20261201163401_word_lists;
