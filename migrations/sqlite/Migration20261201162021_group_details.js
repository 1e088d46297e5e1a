'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201162021_group_details extends Migration {

  async up() {
    this.addSql(`alter table \`groups\` add column \`muted_all\` integer not null default false;`);
    this.addSql(`alter table \`group_members\` add column \`display_name\` text null;`);
    this.addSql(`alter table \`contacts\` add column \`remark\` text null;`);
  }
}
exports.Migration20261201162021_group_details = Migration20261201162021_group_details;
