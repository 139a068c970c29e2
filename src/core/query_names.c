/*
 * query_names.c — the operator names of the query language and "did you mean" suggestions
 * for misspelt operators, options, types and index kinds (an edit distance, see
 * docs/query.md "Errors").
 */
#include "core/query.h"

#include <ctype.h>
#include <string.h>

const char *const gdb_query_operators[] = {
    "$eq",         "$ne",       "$gt",       "$gte",  "$lt",   "$lte",       "$in",    "$nin",
    "$between",    "$exists",   "$type",     "$text", "$like", "$ilike",     "$regex", "$options",
    "$startsWith", "$endsWith", "$contains", "$all",  "$size", "$elemMatch", "$and",   "$or",
    "$not",        "$nor",      "$near",     "$bbox", "$mod",  "$edge",      "$depth", NULL};

/* Optimal string alignment distance, case-insensitive, bounded inputs. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 40 || lb > 40) return SIZE_MAX;
  size_t d[41][41];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      size_t v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb];
}

const char *gdb_query_suggest(const char *word, const char *const *names) {
  const char *best = NULL;
  size_t bestd = SIZE_MAX, len = strlen(word);
  size_t limit = len >= 5 ? 2 : 1;
  for (size_t i = 0; names[i]; i++) {
    size_t d = edit_distance(word, names[i]);
    if (d < bestd) {
      bestd = d;
      best = names[i];
    }
  }
  return bestd <= limit ? best : NULL;
}
