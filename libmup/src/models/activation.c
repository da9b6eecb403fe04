#include <string.h>

#include "mup/models.h"

static const char *names[] = {"relu", "tanh", "gelu"};

bool mup_activation_parse(const char *s, mup_activation *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (mup_activation)i;
            return true;
        }
    return false;
}

const char *mup_activation_name(mup_activation a) { return (unsigned)a < 3 ? names[a] : "?"; }

mup_tensor *mup_activate(mup_graph *g, mup_activation a, mup_tensor *x) {
    switch (a) {
    case MUP_ACT_RELU: return mup_relu(g, x);
    case MUP_ACT_TANH: return mup_tanh(g, x);
    case MUP_ACT_GELU: return mup_gelu(g, x);
    }
    MUP_ASSERT(0, "unknown activation %d", (int)a);
}
