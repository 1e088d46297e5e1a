'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201104705_media_uploads extends Migration {

  async up() {
    this.addSql(`create table \`uploads\` (\`id\` text not null, \`owner_id\` bigint not null, \`type\` text not null, \`filename\` text not null, \`content_type\` text not null, \`declared_size\` bigint not null, \`created_at\` bigint not null, \`expires_at\` bigint not null, \`state\` text not null, \`size\` bigint null, \`measured_content_type\` text null, \`sha256\` text null, \`width\` integer null, \`height\` integer null, \`has_thumbnail\` integer not null default false, \`attached_to\` text null, \`attached_at\` bigint null, constraint \`uploads_owner_id_foreign\` foreign key(\`owner_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`uploads_owner_id_index\` on \`uploads\` (\`owner_id\`);`);
    this.addSql(`create index \`uploads_sha256_index\` on \`uploads\` (\`sha256\`);`);
    this.addSql(`create index \`uploads_state_created_at_index\` on \`uploads\` (\`state\`, \`created_at\`);`);
  }
}
exports.Migration20261201104705_media_uploads = Migration20261201104705_media_uploads;
