'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261201163007_service_accounts extends Migration {

  async up() {
    this.addSql(`create table \`service_accounts\` (\`id\` bigint unsigned not null auto_increment primary key, \`user_id\` bigint unsigned not null, \`name\` varchar(32) not null, \`created_at\` bigint not null, \`revoked_at\` bigint null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`service_accounts\` add index \`service_accounts_user_id_index\`(\`user_id\`);`);
    this.addSql(`alter table \`service_accounts\` add unique \`service_accounts_user_id_unique\`(\`user_id\`);`);
    this.addSql(`alter table \`service_accounts\` add unique \`service_accounts_name_unique\`(\`name\`);`);

    this.addSql(`create table \`service_keys\` (\`id\` bigint unsigned not null auto_increment primary key, \`account_id\` bigint unsigned not null, \`key_prefix\` varchar(16) not null, \`secret_hash\` varchar(64) not null, \`created_at\` bigint not null, \`revoked_at\` bigint null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`service_keys\` add index \`service_keys_account_id_index\`(\`account_id\`);`);
    this.addSql(`alter table \`service_keys\` add unique \`service_keys_key_prefix_unique\`(\`key_prefix\`);`);

    this.addSql(`alter table \`service_accounts\` add constraint \`service_accounts_user_id_foreign\` foreign key (\`user_id\`) references \`users\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`service_keys\` add constraint \`service_keys_account_id_foreign\` foreign key (\`account_id\`) references \`service_accounts\` (\`id\`) on update cascade;`);
  }

  async down() {
    this.addSql(`alter table \`service_keys\` drop foreign key \`service_keys_account_id_foreign\`;`);
    this.addSql(`drop table if exists \`service_keys\`;`);
    this.addSql(`drop table if exists \`service_accounts\`;`);
  }
}
exports.Migration20261201163007_service_accounts = Migration20261201163007_service_accounts;
