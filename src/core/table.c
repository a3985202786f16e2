/*
 * The store's hash set of pointers (table.h): linear probing in a power-of-two
 * array kept at most half full, so a lookup probes a slot or two on average.
 */
#include "table.h"

#include <stdlib.h>

/* FNV-1a, 64 bits: keys are GUIDs and short texts; nothing here needs more. */
uint64_t table_hash(const void *data, size_t size)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ull;
    size_t i;

    for (i = 0; i < size; i++)
    {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void place(struct table_slot *slots, size_t mask, uint64_t hash, void *item)
{
    size_t i = (size_t)hash & mask;
    while (slots[i].item) i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].item = item;
}

bool table_reserve(struct table *t, size_t more)
{
    size_t need = t->count + more, size = t->slots ? t->mask + 1 : 8, i;
    struct table_slot *slots;

    if (need < t->count) return false;
    if (t->slots && need <= size / 2) return true;
    while (size / 2 < need)
    {
        if (size > SIZE_MAX / 2 / sizeof(*slots)) return false;
        size *= 2;
    }
    if (!(slots = calloc(size, sizeof(*slots)))) return false;
    for (i = 0; t->slots && i <= t->mask; i++)
        if (t->slots[i].item) place(slots, size - 1, t->slots[i].hash, t->slots[i].item);
    free(t->slots);
    t->slots = slots;
    t->mask = size - 1;
    return true;
}

/* Every item of a hash lies in the run of full slots that begins at its home slot: *at counts
 * the slots of that run already looked at. */
void *table_find_next(const struct table *t, uint64_t hash, table_match_fn match, const void *key, size_t *at)
{
    size_t i;

    if (!t->slots) return NULL;
    for (i = ((size_t)hash + *at) & t->mask; t->slots[i].item; i = (i + 1) & t->mask)
    {
        ++*at;
        if (t->slots[i].hash == hash && match(t->slots[i].item, key)) return t->slots[i].item;
    }
    return NULL;
}

void *table_find(const struct table *t, uint64_t hash, table_match_fn match, const void *key)
{
    size_t at = 0;
    return table_find_next(t, hash, match, key, &at);
}

void table_insert(struct table *t, uint64_t hash, void *item)
{
    place(t->slots, t->mask, hash, item);
    t->count++;
}

void table_remove(struct table *t, uint64_t hash, const void *item)
{
    size_t i, j, home;

    if (!t->slots) return;
    for (i = (size_t)hash & t->mask; t->slots[i].item != item; i = (i + 1) & t->mask)
        if (!t->slots[i].item) return;
    /* Pull back every later item of the run that could no longer be reached past the hole. */
    for (j = (i + 1) & t->mask; t->slots[j].item; j = (j + 1) & t->mask)
    {
        home = (size_t)t->slots[j].hash & t->mask;
        /* The item stays if its home lies cyclically in (i, j]. */
        if (i <= j ? (home > i && home <= j) : (home > i || home <= j)) continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].item = NULL;
    t->count--;
}

void table_free(struct table *t)
{
    free(t->slots);
    t->slots = NULL;
    t->mask = t->count = 0;
}
