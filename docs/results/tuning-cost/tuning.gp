# rerun with: gnuplot tuning.gp
set terminal pngcairo size 760,520 enhanced font 'DejaVu Sans,10'
set output 'tuning.png'
set title 'Best width-2048 validation loss against tuning compute'
set logscale x
set grid lc rgb '#dddddd'
set xlabel 'tuning compute (multiply-add FLOPs, target training included)'
set ylabel 'validation loss of the width-2048 model'
set key top right
set autoscale fix
set offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08
plot 'direct.dat' using 1:3 with linespoints lw 2 pt 7 title 'random search at width 2048', \
     '' using 1:3:(sprintf('%d', $4)) with labels offset 0,1 notitle, \
     'proxy.dat' using 1:3 with linespoints lw 2 pt 5 title 'search at width 128, transfer', \
     '' using 1:3:(sprintf('%d', $4)) with labels offset 0,-1 notitle
