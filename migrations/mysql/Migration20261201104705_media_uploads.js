'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201104705_media_uploads extends Migration {

  async up() {
    this.addSql(`create table \`uploads\` (\`id\` varchar(22) not null, \`owner_id\` bigint unsigned not null, \`type\` varchar(8) not null, \`filename\` varchar(255) not null, \`content_type\` varchar(255) not null, \`declared_size\` bigint not null, \`created_at\` bigint not null, \`expires_at\` bigint not null, \`state\` varchar(8) not null, \`size\` bigint null, \`measured_content_type\` varchar(255) null, \`sha256\` varchar(64) null, \`width\` int null, \`height\` int null, \`has_thumbnail\` tinyint(1) not null default false, \`attached_to\` varchar(96) null, \`attached_at\` bigint null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`uploads\` add index \`uploads_owner_id_index\`(\`owner_id\`);`);
    this.addSql(`alter table \`uploads\` add index \`uploads_sha256_index\`(\`sha256\`);`);
    this.addSql(`alter table \`uploads\` add index \`uploads_state_created_at_index\`(\`state\`, \`created_at\`);`);
    this.addSql(`alter table \`uploads\` add constraint \`uploads_owner_id_foreign\` foreign key (\`owner_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);
  }
}
exports.Migration20261201104705_media_uploads = Migration20261201104705_media_uploads;
