/* ensi: the public API in one include. Each module has its own header under ensi/. */
#ifndef ENSI_ENSI_H
#define ENSI_ENSI_H

#include <ensi/status.h>
#include <ensi/version.h>
#include <ensi/params.h>
#include <ensi/ckks.h>
#include <ensi/linear_transform.h>
#include <ensi/polynomial.h>
#include <ensi/bootstrap.h>
#include <ensi/io.h>
#include <ensi/model.h>
#include <ensi/tokenizer.h>
#include <ensi/henn.h>
#include <ensi/packed.h>
#include <ensi/packed_forward.h>
#include <ensi/protocol.h>
#include <ensi/baselines.h>

#endif
