/*
 * A set of pointers found by key in constant time, for the store's lookups that
 * must not walk a list: listed jobs by id, a job's files by DO file id, started
 * downloads by LocalPath and the folders of LocalPaths. Open
 * addressing with linear probing, at most half full; each slot keeps its item's
 * hash, so growth and removal (a backward shift, no tombstones) never need the
 * key. The table owns no item, and takes no lock: its owner's lock guards it.
 */
#ifndef DOSVC_CORE_TABLE_H
#define DOSVC_CORE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct table_slot
{
    uint64_t hash;
    void *item;                    /* NULL: empty */
};

struct table
{
    struct table_slot *slots;      /* NULL until the first table_reserve */
    size_t mask;                   /* slot count - 1; the count is a power of two */
    size_t count;
};

/* Whether item is the one key names. */
typedef bool (*table_match_fn)(const void *item, const void *key);

uint64_t table_hash(const void *data, size_t size);
/* Makes room for more items, so that that many table_insert calls cannot fail; false
 * without memory, the table unchanged. */
bool table_reserve(struct table *t, size_t more);
void *table_find(const struct table *t, uint64_t hash, table_match_fn match, const void *key);
/* For a table that holds several items under one key: each call gives the next of them, or
 * NULL after the last; *at (0 for the first call) keeps the place. */
void *table_find_next(const struct table *t, uint64_t hash, table_match_fn match, const void *key, size_t *at);
/* Adds item (not NULL) under hash; room was reserved. */
void table_insert(struct table *t, uint64_t hash, void *item);
/* Removes item, found by identity; nothing if it is not there. */
void table_remove(struct table *t, uint64_t hash, const void *item);
void table_free(struct table *t);

#endif
