/* libmup: µP (Maximal Update Parametrization) and µTransfer in C. One include for everything. */
#ifndef MUP_H
#define MUP_H

#include "mup/api.h"
#include "mup/checkpoint.h"
#include "mup/coord.h"
#include "mup/data.h"
#include "mup/dist.h"
#include "mup/error.h"
#include "mup/graph.h"
#include "mup/init.h"
#include "mup/model.h"
#include "mup/models.h"
#include "mup/nn.h"
#include "mup/ops.h"
#include "mup/optim.h"
#include "mup/rng.h"
#include "mup/tensor.h"
#include "mup/threads.h"
#include "mup/train.h"
#include "mup/trial.h"

#endif
