#ifndef CGRANARY_LMDB_SHIM_H
#define CGRANARY_LMDB_SHIM_H
#include <lmdb.h>
#endif
