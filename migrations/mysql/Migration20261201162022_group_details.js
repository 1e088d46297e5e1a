'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201162022_group_details extends Migration {

  async up() {
    this.addSql(`alter table \`groups\` add \`muted_all\` tinyint(1) not null default false;`);
    this.addSql(`alter table \`group_members\` add \`display_name\` varchar(32) null;`);
    this.addSql(`alter table \`contacts\` add \`remark\` varchar(64) null;`);
  }

  async down() {
    this.addSql(`alter table \`contacts\` drop column \`remark\`;`);
    this.addSql(`alter table \`group_members\` drop column \`display_name\`;`);
    this.addSql(`alter table \`groups\` drop column \`muted_all\`;`);
  }
}
exports.Migration20261201162022_group_details = Migration20261201162022_group_details;
