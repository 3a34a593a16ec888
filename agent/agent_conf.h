/* agent_conf: the agent's configuration keys (one table: parsing, checks,
 * --help and conf/quorum-backup-agent.ini all come from it). */
#ifndef QB_AGENT_CONF_H
#define QB_AGENT_CONF_H

#include "conf.h"
#include "nodes.h"

struct agent_conf {
	/* [agent] */
	long long member;          /* 0: not set */
	char *data_dir;
	char *backup_dir;
	char *node_key;
	char *log_level;
	char *listen;
	char *probe_listen;
	char *token_file;
	char *auth;
	long long conn_timeout;
	long long idle_timeout;
	long long conn_memory;
	long long per_ip_limit;
	long long max_connections;
	long long max_body;
	long long ready_timeout;
	long long quiesce_hold;
	/* [archive] */
	long long level;
	long long threads;
	struct conf_list exclude;
	struct conf_list lock_files;
	char *outside_links;       /* fail|keep */
	/* [retention] */
	long long keep_last;
	long long keep_days;
	/* [encryption] */
	char *recipients_file;     /* "": backups in the clear */
	char *identity_file;       /* "": none */
	int require_encryption;
	/* [offsite] */
	char *offsite_url;         /* "": none */
	char *offsite_region;
	char *offsite_addressing;  /* path|virtual */
	char *offsite_upload;      /* auto|manual */
	char *offsite_ca_file;
	char *offsite_access_key_file;
	char *offsite_secret_key_file;
	long long offsite_keep_last;
	long long offsite_keep_days;
	long long offsite_part_size;
	long long offsite_parallel;
	long long offsite_bandwidth_limit;
	/* [node.NAME] sections, in file order: stopped in this order, started
	 * in reverse. */
	struct node_def **nodes;
	size_t n_nodes;
};

extern const struct conf_table agent_conf_table;

#endif
