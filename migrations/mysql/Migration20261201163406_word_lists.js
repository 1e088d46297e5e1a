'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201163406_word_lists extends Migration {

  async up() {
    this.addSql(`create table \`word_lists\` (\`id\` bigint unsigned not null auto_increment primary key, \`name\` varchar(64) not null, \`action\` varchar(8) not null, \`version\` int not null, \`created_at\` bigint not null, \`updated_at\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`word_lists\` add unique \`word_lists_name_unique\`(\`name\`);`);

    this.addSql(`create table \`words\` (\`id\` bigint unsigned not null auto_increment primary key, \`list_id\` bigint unsigned not null, \`word\` varchar(100) not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`words\` add index \`words_list_id_index\`(\`list_id\`);`);
    this.addSql(`alter table \`words\` add unique \`words_list_id_word_unique\`(\`list_id\`, \`word\`);`);

    this.addSql(`alter table \`words\` add constraint \`words_list_id_foreign\` foreign key (\`list_id\`) references \`word_lists\` (\`id\`) on update cascade on delete cascade;`);
  }
}
exports.Migration20261201163406_word_lists = Migration20261201163406_word_lists;
