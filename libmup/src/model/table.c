#include <stdio.h>
#include <string.h>

#include "model_impl.h"

static void dims_str(const mup_param *p, bool base, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < p->t.ndim && used < len; i++) {
        const char *sep = i ? ", " : "";
        if (base && !p->width_dim[i])
            used += (size_t)snprintf(buf + used, len - used, "%s-", sep);
        else
            used += (size_t)snprintf(buf + used, len - used, "%s%d", sep, base ? p->base_shape[i] : p->t.shape[i]);
    }
    if (used < len)
        snprintf(buf + used, len - used, ")");
}

void mup_model_print_shapes(const mup_model *M, FILE *out) {
    int wname = 4;
    for (int i = 0; i < M->n_params; i++) {
        int n = (int)strlen(M->params[i]->name);
        wname = n > wname ? n : wname;
    }
    fprintf(out, "%-*s  %-12s %-12s %-6s %-6s %7s %9s %8s %8s %8s %8s\n", wname, "name", "shape",
            M->shapes_set ? "base" : "base (unset)", "class", "role", "mult", "init std", "sgd lr",
            "sgd wd", "adam lr", "adam wd");
    for (int i = 0; i < M->n_params; i++) {
        const mup_param *p = M->params[i];
        char shape[48], base[48];
        dims_str(p, false, shape, sizeof shape);
        dims_str(p, true, base, sizeof base);
        fprintf(out, "%-*s  %-12s %-12s %-6s %-6s %7.4g %9.4g %8.4g %8.4g %8.4g %8.4g\n", wname, p->name,
                shape, base, mup_class_name(p->cls), mup_role_name(p->role), p->width_mult,
                mup_param_init_std(p), p->sgd_lr_mult, p->sgd_wd_mult, p->adam_lr_mult, p->adam_wd_mult);
    }
    fprintf(out, "%d parameters, %ld elements, parametrization %s\n", M->n_params, M->n_elements,
            M->parametrization == MUP_PARAMETRIZATION_MUP ? "µP" : "SP");
}
