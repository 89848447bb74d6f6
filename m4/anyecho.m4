# AE_ADD_CFLAG(FLAG, VAR): append FLAG to VAR when the compiler accepts it
# (with -Werror, so that clang's "unknown warning option" counts as no).
AC_DEFUN([AE_ADD_CFLAG], [
  AS_VAR_PUSHDEF([ae_cv], [ae_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [ae_cv], [
    ae_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([ae_cv], [yes])], [AS_VAR_SET([ae_cv], [no])])
    CFLAGS=$ae_save_CFLAGS])
  AS_VAR_IF([ae_cv], [yes], [$2="$$2 $1"])
  AS_VAR_POPDEF([ae_cv])
])
