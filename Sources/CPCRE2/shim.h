// PCRE2's API names are macros over the code unit width; Swift imports only the suffixed
// functions, so the few calls used are wrapped here under plain names.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/// Compiles with `\n` as the only line end (RE2's), then for the JIT where the platform has it.
static inline pcre2_code_8 *otelcol_pcre2_compile(const unsigned char *pattern, size_t length, uint32_t options,
                                                  int *error, size_t *offset) {
    pcre2_compile_context_8 *context = pcre2_compile_context_create_8(NULL);
    if (context == NULL) { *error = PCRE2_ERROR_NOMEMORY; *offset = 0; return NULL; }
    pcre2_set_newline_8(context, PCRE2_NEWLINE_LF);
    pcre2_code_8 *code = pcre2_compile_8(pattern, length, options, error, offset, context);
    pcre2_compile_context_free_8(context);
    if (code != NULL) (void)pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE);
    return code;
}

static inline void otelcol_pcre2_code_free(pcre2_code_8 *code) { pcre2_code_free_8(code); }

/* Match data kept by each thread for its next match: made for every match, its allocation and
   release were a tenth of a filter with one IsMatch. It lives as long as the thread (the pool's
   threads live as long as the process). A match inside a match on the same thread gets fresh
   data (`*fresh` set), to be freed on return. */
static __thread pcre2_match_data_8 *otelcol_pcre2_kept_data = NULL;
static __thread uint32_t otelcol_pcre2_kept_pairs = 0;
static __thread int otelcol_pcre2_kept_lent = 0;

static inline pcre2_match_data_8 *otelcol_pcre2_match_data_borrow(uint32_t pairs, int *fresh) {
    if (otelcol_pcre2_kept_lent) {
        *fresh = 1;
        return pcre2_match_data_create_8(pairs, NULL);
    }
    if (otelcol_pcre2_kept_pairs < pairs) {
        if (otelcol_pcre2_kept_data != NULL) pcre2_match_data_free_8(otelcol_pcre2_kept_data);
        otelcol_pcre2_kept_data = pcre2_match_data_create_8(pairs, NULL);
        otelcol_pcre2_kept_pairs = otelcol_pcre2_kept_data != NULL ? pairs : 0;
    }
    *fresh = 0;
    otelcol_pcre2_kept_lent = otelcol_pcre2_kept_data != NULL;
    return otelcol_pcre2_kept_data;
}

static inline void otelcol_pcre2_match_data_return(pcre2_match_data_8 *data, int fresh) {
    if (fresh) {
        if (data != NULL) pcre2_match_data_free_8(data);
    } else {
        otelcol_pcre2_kept_lent = 0;
    }
}

/// The number of pairs set in the ovector (> 0) on a match, PCRE2_ERROR_NOMATCH or another error.
static inline int otelcol_pcre2_match(const pcre2_code_8 *code, const unsigned char *subject, size_t length,
                                      size_t start, pcre2_match_data_8 *data) {
    return pcre2_match_8(code, subject, length, start, PCRE2_NO_UTF_CHECK, data, NULL);
}

/// `otelcol_pcre2_match` for a pattern the JIT compiled: PCRE2's fast path, without the checks of
/// its arguments that `pcre2_match` makes on every call (subjects here are valid UTF-8).
static inline int otelcol_pcre2_jit_match(const pcre2_code_8 *code, const unsigned char *subject, size_t length,
                                          size_t start, pcre2_match_data_8 *data) {
    return pcre2_jit_match_8(code, subject, length, start, 0, data, NULL);
}

static inline size_t *otelcol_pcre2_ovector(pcre2_match_data_8 *data) { return pcre2_get_ovector_pointer_8(data); }

static inline int otelcol_pcre2_error_message(int error, unsigned char *buffer, size_t size) {
    return pcre2_get_error_message_8(error, buffer, size);
}

static inline int otelcol_pcre2_info(const pcre2_code_8 *code, uint32_t what, void *where) {
    return pcre2_pattern_info_8(code, what, where);
}
